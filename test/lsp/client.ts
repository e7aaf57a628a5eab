/**
 * A small JSON-RPC client for the language server's tests, written against
 * the protocol (Content-Length framing) rather than a client library, so the
 * server is checked as an editor sees it: `node bin/tns.js lsp` as a child
 * process on stdio.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface Message {
  jsonrpc: "2.0";
  id?: number;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: { code: number; message: string };
}

/** A client talking to one server process. */
export class LspClient {
  private readonly child: ChildProcessWithoutNullStreams;
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (m: Message) => void }>();
  private readonly notifications: Message[] = [];
  private readonly waiters: { method: string; test: (p: any) => boolean; resolve: (p: any) => void }[] = [];
  stderr = "";

  constructor(args: string[] = ["lsp", "--debounce", "50"]) {
    this.child = spawn(process.execPath, ["bin/tns.js", ...args], { cwd: ROOT, stdio: "pipe" });
    this.child.stdout.on("data", (chunk: Buffer) => this.receive(chunk));
    this.child.stderr.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
  }

  /** Sends a request and resolves with its result (rejects with a server error). */
  async request<T = any>(method: string, params: unknown): Promise<T> {
    const id = this.nextId++;
    const reply = new Promise<Message>((resolve) => this.pending.set(id, { resolve }));
    this.send({ jsonrpc: "2.0", id, method, params });
    const m = await reply;
    if (m.error) throw new Error(`${method}: ${m.error.message}`);
    return m.result as T;
  }

  /** Sends a notification. */
  notify(method: string, params: unknown): void {
    this.send({ jsonrpc: "2.0", method, params });
  }

  /** Resolves with the params of the first notification of `method` (past or future) that passes `test`. */
  notification<T = any>(method: string, test: (params: T) => boolean = () => true): Promise<T> {
    const seen = this.notifications.find((m) => m.method === method && test(m.params as T));
    if (seen) return Promise.resolve(seen.params as T);
    return new Promise((resolve) => this.waiters.push({ method, test, resolve }));
  }

  /** shutdown, exit, and the process's exit code. */
  async close(): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => this.child.on("exit", (code) => resolve(code)));
    await this.request("shutdown", null);
    this.notify("exit", null);
    return exited;
  }

  private send(m: Message): void {
    const body = Buffer.from(JSON.stringify(m), "utf8");
    this.child.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.child.stdin.write(body);
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headerEnd = this.buffer.indexOf("\r\n\r\n");
      if (headerEnd < 0) return;
      const header = this.buffer.subarray(0, headerEnd).toString("ascii");
      const length = Number(/Content-Length: (\d+)/i.exec(header)?.[1]);
      if (this.buffer.length < headerEnd + 4 + length) return;
      const body = this.buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString("utf8");
      this.buffer = this.buffer.subarray(headerEnd + 4 + length);
      this.dispatch(JSON.parse(body) as Message);
    }
  }

  private dispatch(m: Message): void {
    if (m.id !== undefined && m.method === undefined) {
      this.pending.get(m.id)?.resolve(m);
      this.pending.delete(m.id);
      return;
    }
    if (m.id !== undefined) {
      // A request from the server (configuration, capabilities): answer with nothing.
      this.send({ jsonrpc: "2.0", id: m.id, result: null });
      return;
    }
    this.notifications.push(m);
    for (const w of [...this.waiters]) {
      if (w.method === m.method && w.test(m.params)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(m.params);
      }
    }
  }
}
