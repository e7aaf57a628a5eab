/** Exit codes of `tns`: success, diagnostics (user errors in the program or data), usage errors, internal errors. */
export const EXIT = { ok: 0, diagnostics: 1, usage: 2, internal: 3 } as const;
