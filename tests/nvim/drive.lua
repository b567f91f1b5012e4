-- Drives a headless Neovim for tests/test_neovim.py, after the init.lua taken from
-- docs/editors.md: opens each file, waits for dockfix's diagnostics, applies the quick fix on the
-- DF701 line, saves (BufWritePre formats) and writes what it saw to $DOCKFIX_RESULT as JSON.
-- The quick fix goes through vim.lsp.buf.code_action() with the cursor on the diagnostic, as a
-- user would (0.7: picked from its menu; 0.11: its filter and apply options).
local result = { files = {}, version = tostring(vim.version().major) .. "." .. tostring(vim.version().minor) }
local modern = vim.fn.has("nvim-0.11") == 1

local function dockfix_client(buf)
  local clients = modern and vim.lsp.get_clients({ bufnr = buf }) or vim.lsp.buf_get_clients(buf)
  for _, client in pairs(clients) do
    if client.name == "dockfix" then
      return client
    end
  end
end

local function columns(diagnostics)
  local out = {}
  for _, d in ipairs(diagnostics or {}) do
    table.insert(out, d.range.start.character)
  end
  return out
end

-- 0.7: vim.lsp.buf.code_action() itself (asynchronous), the DF701 fix picked from its menu
-- (vim.ui.select) as a user would, the request seen on its way out
local function quick_fix_0_7(entry, buf)
  local request_all, select = vim.lsp.buf_request_all, vim.ui.select
  vim.lsp.buf_request_all = function(bufnr, method, params, handler)
    if method == "textDocument/codeAction" then
      entry.sent_columns = columns(params.context.diagnostics)
    end
    return request_all(bufnr, method, params, handler)
  end
  vim.ui.select = function(items, _, on_choice)
    for _, item in ipairs(items) do
      local action = item[2]
      if action.kind == "quickfix" and action.title:find("DF701", 1, true) then
        entry.applied = action.title
        return on_choice(item)
      end
    end
    on_choice(nil)
  end
  local tick = vim.b[buf].changedtick
  vim.lsp.buf.code_action()
  vim.wait(60000, function() return vim.b[buf].changedtick ~= tick end, 20)
  vim.lsp.buf_request_all, vim.ui.select = request_all, select
end

-- 0.11: vim.lsp.buf.code_action() itself (asynchronous), the request seen on its way out
local function quick_fix_0_11(entry, buf, client)
  local request = client.request
  client.request = function(self, method, params, ...)
    if method == "textDocument/codeAction" then
      entry.sent_columns = columns(params.context.diagnostics)
      entry.sent_ids = {}
      for _, d in ipairs(params.context.diagnostics or {}) do
        table.insert(entry.sent_ids, d.data and d.data.id or vim.NIL)
      end
    end
    return request(self, method, params, ...)
  end
  local tick = vim.b[buf].changedtick
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      local wanted = action.kind == "quickfix" and action.title:find("DF701", 1, true) ~= nil
      if wanted then
        entry.applied = action.title
      end
      return wanted
    end,
  })
  vim.wait(60000, function() return vim.b[buf].changedtick ~= tick end, 20)
  client.request = request
end

local function run()
  local fix_file = os.getenv("DOCKFIX_FIX_FILE")
  for _, path in ipairs(vim.split(os.getenv("DOCKFIX_FILES"), "\n", { trimempty = true })) do
    vim.cmd("edit " .. vim.fn.fnameescape(path))
    local buf = vim.api.nvim_get_current_buf()
    local entry = { path = path, filetype = vim.bo[buf].filetype, fileformat = vim.bo[buf].fileformat,
                    bomb = vim.bo[buf].bomb, diagnostics = {} }
    table.insert(result.files, entry)
    entry.got_diagnostics = vim.wait(120000, function() return #vim.diagnostic.get(buf) > 0 end, 20)
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      table.insert(entry.diagnostics, { code = d.code, lnum = d.lnum, col = d.col })
    end
    local client = dockfix_client(buf)
    entry.offset_encoding = client and client.offset_encoding
    if path == fix_file then
      for _, d in ipairs(vim.diagnostic.get(buf)) do
        if d.code == "DF701" then
          vim.api.nvim_win_set_cursor(0, { d.lnum + 1, d.col })
        end
      end
      if modern then
        quick_fix_0_11(entry, buf, client)
      else
        quick_fix_0_7(entry, buf)
      end
    end
    vim.cmd("write")
    entry.modified_after_write = vim.bo[buf].modified
  end
end

local ok, err = pcall(run)
if not ok then
  result.error = tostring(err)
end
vim.fn.writefile({ vim.fn.json_encode(result) }, os.getenv("DOCKFIX_RESULT"))
vim.cmd("qall!")
