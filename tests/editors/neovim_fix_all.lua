-- Neovim's own LSP client, headless: start `lambda-fix server` for the file given, wait for its
-- diagnostics, apply the fix-all code action as the editor does, and write the file.
-- Run: LAMBDA_FIX_PYTHON=... nvim --headless --clean -u NONE -c "luafile THIS" FILE
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)")
local bufnr, id, fail = dofile(here .. "neovim_start.lua")

if not vim.wait(60000, function() return #vim.diagnostic.get(bufnr) > 0 end, 50) then
  fail("no diagnostics")
end
local codes = {}
for _, diagnostic in ipairs(vim.diagnostic.get(bufnr)) do
  table.insert(codes, diagnostic.code)
end
table.sort(codes)
io.stdout:write("diagnostics: " .. table.concat(codes, ",") .. "\n")

local client = vim.lsp.get_client_by_id(id)
local params = vim.lsp.util.make_range_params()
params.context = { diagnostics = {}, only = { "source.fixAll.lambda-fix" } }
local response = client.request_sync("textDocument/codeAction", params, 60000, bufnr)
if not response or not response.result or not response.result[1] then
  fail("no fix-all action")
end
vim.lsp.util.apply_workspace_edit(response.result[1].edit, client.offset_encoding)
vim.cmd("write")
io.stdout:write("written\n")
vim.cmd("qall!")
