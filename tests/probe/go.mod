module dockfix.test/probe

go 1.19
