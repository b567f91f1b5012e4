FROM debian:bookworm-slim
# les réglages par défaut → système
RUN echo "réglages → système ✓" && echo 'ulimit -n 65536' >> /etc/profile.d/99-nofile.sh && apt-get update
CMD ["app"]
