-- Neovim's own LSP client, headless: start `lambda-fix server` for the handler given, wait for the
-- diagnostic on the client its helper module builds, ask for that diagnostic's quick fixes as the
-- editor does, apply the one made in the other module (titled "(in helpers.py)"), and write every
-- buffer it changed.
-- Run: LAMBDA_FIX_PYTHON=... nvim --headless --clean -u NONE -c "luafile THIS" app.py
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)")
local bufnr, id, fail = dofile(here .. "neovim_start.lua")

local function client_built()
  for _, diagnostic in ipairs(vim.diagnostic.get(bufnr)) do
    if diagnostic.code == "LF004" then
      return diagnostic
    end
  end
end

if not vim.wait(60000, function() return client_built() ~= nil end, 50) then
  fail("no LF004 diagnostic")
end
local target = client_built()
io.stdout:write("diagnostic: " .. target.code .. " at line " .. (target.lnum + 1) .. "\n")

local client = vim.lsp.get_client_by_id(id)
local params = vim.lsp.util.make_range_params()
params.range = { start = { line = target.lnum, character = target.col },
                 ["end"] = { line = target.end_lnum, character = target.end_col } }
params.context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(bufnr, target.lnum),
                   only = { "quickfix" } }
local response = client.request_sync("textDocument/codeAction", params, 60000, bufnr)
local chosen
for _, action in ipairs(response and response.result or {}) do
  if action.title:find("(in helpers.py)", 1, true) and action.edit then
    chosen = action
  end
end
if not chosen then
  fail("no fix in helpers.py offered")
end
io.stdout:write("action: " .. chosen.title .. "\n")
vim.lsp.util.apply_workspace_edit(chosen.edit, client.offset_encoding)
vim.cmd("wall")
io.stdout:write("written\n")
vim.cmd("qall!")
