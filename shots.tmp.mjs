import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";
const root = "/work/wt-playground/playground/dist";
const types = { ".js": "text/javascript", ".html": "text/html", ".css": "text/css", ".wasm": "application/wasm" };
const server = createServer((req, res) => {
  let p = new URL(req.url, "http://x").pathname; if (p === "/") p = "/index.html";
  try { const b = readFileSync(normalize(join(root, p))); res.writeHead(200, { "Content-Type": types[extname(p)] ?? "application/octet-stream" }); res.end(b); }
  catch { res.writeHead(404); res.end(); }
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const port = server.address().port;
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
page.on("pageerror", (e) => console.log("pageerror:", e.message));
await page.goto(`http://localhost:${port}/#example=${process.argv[2] ?? "attention"}`);
await page.waitForSelector("body[data-analysis]", { timeout: 30000 });
for (const tab of ["explain", "graph", "js", "wasm", "wgsl"]) {
  await page.click(`#tabs button[data-tab=${tab}]`);
  await page.waitForFunction((t) => !document.getElementById(t).textContent.includes("compiling") , tab);
  await page.waitForTimeout(300);
  await page.screenshot({ path: `/tmp/pg-${tab}.png`, clip: { x: 700, y: 40, width: 700, height: 560 } });
}
await browser.close(); server.close();
