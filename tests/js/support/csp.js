// The strict Content-Security-Policy many production frontends send: scripts only from the
// page's origin, WebAssembly compilation allowed, no 'unsafe-eval' (no eval, no `new Function`).
// The shipped client must load and run under it (tests/browser/client-csp.test.js, and the packed
// package's Vite consumer in scripts/test-package.sh).
export const STRICT_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'";

// Collects every policy violation a page reports, from before its first script runs: the
// `securitypolicyviolation` events and the console's refusals (read with `violations()`). A
// violation counts even where the code caught the error and fell back.
export async function watchViolations(page) {
  const refused = [];
  page.on('console', (message) => {
    if (/Content Security Policy|unsafe-eval/i.test(message.text())) refused.push(message.text());
  });
  await page.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (event) => {
      window.cspViolations.push(`${event.violatedDirective}: ${event.blockedURI} ${event.sample}`);
    });
  });
  return {
    async clear() {
      refused.length = 0;
      await page.evaluate(() => { window.cspViolations.length = 0; });
    },
    async violations() {
      return [...refused, ...(await page.evaluate(() => window.cspViolations ?? []))];
    },
  };
}
