// A user's page: imports the package by name, so Vite must resolve it, bundle the JS and emit the
// wasm as an asset whose URL the bundle knows.
import { createEarningsManager } from 'ton-earnings-guard';

const out = document.getElementById('out');
try {
  const manager = await createEarningsManager({ endpoint: location.origin, tabs: null });
  const state = await manager.initializeUser(7);
  window.result = { ok: true, userId: state.userId, currentEarnings: state.currentEarnings };
  await manager.dispose();
} catch (error) {
  window.result = { ok: false, code: error.code, message: error.message };
}
out.textContent = JSON.stringify(window.result);
