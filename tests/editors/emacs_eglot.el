;; Emacs's own LSP client (Eglot, Debian's elpa-eglot), in batch: start `lambda-fix server` for the
;; file given and wait for its diagnostics (Flymake's), then ask for a code action as Eglot asks, apply
;; its edit as Eglot applies one (`eglot--apply-workspace-edit`, Eglot 1.9's own), and save what it
;; changed. LAMBDA_FIX_ACTION: "fix-all" (source.fixAll.lambda-fix on the buffer) or "elsewhere" (the
;; quick fix of the LF004 diagnostic that is made in helpers.py).
;; Run: LAMBDA_FIX_PYTHON=... LAMBDA_FIX_ACTION=... emacs --batch -Q -l THIS FILE
(dolist (directory (directory-files "/usr/share/emacs/site-lisp/elpa" t "^[a-z]"))
  (add-to-list 'load-path directory))
(require 'eglot)

(defun lambda-fix-fail (message)
  (princ (concat message "\n") #'external-debugging-output)
  (kill-emacs 1))

(setq eglot-server-programs
      `((python-mode . (,(getenv "LAMBDA_FIX_PYTHON") "-m" "lambda_fix" "server"))))
(setq eglot-sync-connect 30)
(find-file (car command-line-args-left))
(setq command-line-args-left nil)
(python-mode)
(let ((project-find-functions (list (lambda (_) (cons 'transient default-directory)))))
  (eglot-ensure)
  (run-hooks 'post-command-hook))  ; Eglot connects once the command that asked is over

(defun lambda-fix-diagnostic (code)
  (seq-find (lambda (d) (string-match-p (format "\\[%s\\]" code) (flymake-diagnostic-text d)))
            (flymake-diagnostics)))

(let ((waited 0))
  (while (and (< waited 600) (null (lambda-fix-diagnostic "LF004")))
    (accept-process-output nil 0.1)
    (setq waited (1+ waited))))
(unless (lambda-fix-diagnostic "LF004") (lambda-fix-fail "no LF004 diagnostic"))
(princ (format "diagnostics: %s\n" (mapconcat #'flymake-diagnostic-text (flymake-diagnostics) " | ")))

(let* ((server (eglot-current-server))
       (elsewhere (equal (getenv "LAMBDA_FIX_ACTION") "elsewhere"))
       (target (lambda-fix-diagnostic "LF004"))
       (range (if elsewhere
                  (list :start (eglot--pos-to-lsp-position (flymake-diagnostic-beg target))
                        :end (eglot--pos-to-lsp-position (flymake-diagnostic-end target)))
                (list :start (eglot--pos-to-lsp-position (point-min))
                      :end (eglot--pos-to-lsp-position (point-max)))))
       (diagnostics (if elsewhere
                        (vector (cdr (assoc 'eglot-lsp-diag (eglot--diag-data target))))
                      []))
       (actions (jsonrpc-request server :textDocument/codeAction
                                 (list :textDocument (eglot--TextDocumentIdentifier)
                                       :range range
                                       :context (list :diagnostics diagnostics
                                                      :only (if elsewhere ["quickfix"]
                                                              ["source.fixAll.lambda-fix"])))))
       (action (seq-find (lambda (a) (or (not elsewhere)
                                         (string-match-p "(in helpers\\.py)" (plist-get a :title))))
                         actions)))
  (unless action (lambda-fix-fail "no such action"))
  (princ (format "action: %s\n" (plist-get action :title)))
  ;; Eglot asks before it edits a file no buffer visits: the user says yes.
  (cl-letf (((symbol-function 'y-or-n-p) (lambda (prompt) (princ (format "asked: %s\n" prompt)) t)))
    (eglot--apply-workspace-edit (plist-get action :edit))))
(save-some-buffers t)
(princ "written\n")
(kill-emacs 0)
