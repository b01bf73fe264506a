// The server's build of the core (dist/earnings-core-server.*): the same sources as the client
// module plus the crediting planners, compiled for speed rather than size (wasm/CMakeLists.txt).
import { loadCore } from '../js/core.js';
import { WasmNotFoundError } from '../js/errors.js';

const SERVER_MODULE = new URL('../dist/earnings-core-server.mjs', import.meta.url);
const SERVER_WASM = new URL('../dist/earnings-core-server.wasm', import.meta.url);

export async function loadServerCore() {
  let factory;
  try {
    ({ default: factory } = await import(SERVER_MODULE));
  } catch (cause) {
    throw new WasmNotFoundError(`cannot load ${SERVER_MODULE.pathname} (${cause.message}); run \`npm run build:wasm\``, { cause });
  }
  return loadCore({ wasmUrl: SERVER_WASM, moduleFactory: factory });
}
