-- Drives a headless Neovim for tests/test_neovim.py, after the init.lua taken from
-- docs/editors.md: opens each file, waits for dockfix's diagnostics, applies the quick fix the
-- way vim.lsp.buf.code_action() asks for it on 0.7 (the line's diagnostics, byte columns), saves
-- (BufWritePre formats) and writes what it saw to $DOCKFIX_RESULT as JSON.
local result = { files = {} }

local function dockfix_client(buf)
  for _, client in pairs(vim.lsp.buf_get_clients(buf)) do
    if client.name == "dockfix" then
      return client
    end
  end
end

local function run()
  local fix_file = os.getenv("DOCKFIX_FIX_FILE")
  for _, path in ipairs(vim.split(os.getenv("DOCKFIX_FILES"), "\n", { trimempty = true })) do
    vim.cmd("edit " .. vim.fn.fnameescape(path))
    local buf = vim.api.nvim_get_current_buf()
    local entry = { path = path, filetype = vim.bo[buf].filetype, fileformat = vim.bo[buf].fileformat,
                    diagnostics = {} }
    table.insert(result.files, entry)
    entry.got_diagnostics = vim.wait(120000, function() return #vim.diagnostic.get(buf) > 0 end, 20)
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      table.insert(entry.diagnostics, { code = d.code, lnum = d.lnum, col = d.col })
    end
    if path == fix_file then
      local client = dockfix_client(buf)
      for _, d in ipairs(vim.diagnostic.get(buf)) do
        if d.code == "DF701" then
          vim.api.nvim_win_set_cursor(0, { d.lnum + 1, d.col })
        end
      end
      local params = vim.lsp.util.make_range_params()
      params.context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(buf) }
      entry.sent_columns = {}
      for _, d in ipairs(params.context.diagnostics) do
        table.insert(entry.sent_columns, d.range.start.character)
      end
      local response = client.request_sync("textDocument/codeAction", params, 60000, buf)
      entry.actions = {}
      for _, action in ipairs(response and response.result or {}) do
        table.insert(entry.actions, action.title)
        if action.kind == "quickfix" and action.title:find("DF701", 1, true) and action.edit then
          vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding)
          entry.applied = action.title
        end
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
