/**
 * Keeps secrets out of every output. Exchange errors carry the signed request URL, and some
 * error pages (a proxy, a CDN) echo the request headers, API key included; they reach logs,
 * decisions and stderr through error messages. Two layers:
 *
 *   - `redactText` on every error message at the venue boundary and on the command line:
 *     request signatures and every registered secret become `[redacted]`, and an HTML page
 *     becomes `[HTML page of N characters: <title>]`;
 *   - `redactSecrets` on every log line as it is written (the live logger's stream): the same
 *     without the HTML rewrite, so a JSON line stays valid whatever it holds.
 *
 * Secrets are registered where they are read from the environment (the ccxt venue), once per
 * process; the registry is process-wide on purpose, so that no output path can miss it.
 */

const secrets = new Set<string>();

/** The text that replaces a secret or a signature. */
export const REDACTED = '[redacted]';

/** Registers a secret value (an API key, a secret, a password) to be redacted from all output. Short values are ignored. */
export function registerSecret(value: string | undefined): void {
  if (value === undefined || value.length < 6) return;
  for (const form of [value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)]) secrets.add(form);
}

const SIGNATURE = /(signature["']?\s*[=:]\s*["']?)[^&\s"'<>,}]+/gi;

/** Replaces registered secrets and request signatures by `[redacted]`; safe on JSON text. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out.replace(SIGNATURE, `$1${REDACTED}`);
}

const HTML_PAGE = /<!DOCTYPE html[\s\S]*?(<\/html>|$)|<html[\s>][\s\S]*?(<\/html>|$)/gi;

/** `redactSecrets`, then every HTML page shortened to its title and length. */
export function redactText(text: string): string {
  return redactSecrets(text).replace(HTML_PAGE, (page) => {
    const title = /<title>([^<]{0,120})<\/title>/i.exec(page)?.[1]?.trim();
    return `[HTML page of ${page.length} characters${title ? `: ${title}` : ''}]`;
  });
}
