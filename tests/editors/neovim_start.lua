-- What both Neovim scripts start with: `lambda-fix server` (LAMBDA_FIX_PYTHON -m lambda_fix server)
-- attached to the current buffer through Neovim's own LSP client. Returns the buffer, the client's id
-- and a function that fails the run with a message.
local python = os.getenv("LAMBDA_FIX_PYTHON")
local bufnr = vim.api.nvim_get_current_buf()
local id = vim.lsp.start_client({
  name = "lambda-fix",
  cmd = { python, "-m", "lambda_fix", "server" },
  root_dir = vim.fn.getcwd(),
  init_options = { unsafeFixes = false },
})
vim.lsp.buf_attach_client(bufnr, id)

local function fail(message)
  io.stderr:write(message .. "\n")
  vim.cmd("cquit 1")
end

return bufnr, id, fail
