// Loaded by tests/browser/client-csp.test.js as page script (scripts the test evaluates over the
// DevTools protocol are exempt from the page's policy): is evaluating a string refused here?
try {
  window.cspProbe = new Function('return "evaluated"')();
} catch (error) {
  window.cspProbe = error.name;
}
