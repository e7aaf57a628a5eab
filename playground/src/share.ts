/**
 * A program in a URL: the source deflated and base64url-encoded in the
 * fragment (`#src=...`), so it never reaches a server; `#example=NAME`
 * names one of the examples instead.
 */
import { deflateSync, inflateSync, strFromU8, strToU8 } from "fflate";

function toBase64Url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array {
  const s = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** The fragment that carries `source`. */
export function sourceFragment(source: string): string {
  return `#src=${toBase64Url(deflateSync(strToU8(source), { level: 9 }))}`;
}

/** What a fragment names: a source, an example, or nothing (also for a damaged fragment). */
export function readFragment(hash: string): { source: string } | { example: string } | null {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const src = params.get("src");
  if (src !== null) {
    try {
      return { source: strFromU8(inflateSync(fromBase64Url(src))) };
    } catch {
      return null;
    }
  }
  const example = params.get("example");
  return example === null ? null : { example };
}
