// Where the core's wasm comes from and how it is instantiated, kept apart from what the core does
// (js/core.js): a page may serve the .wasm from a CDN, a bundler may rename it, a test may hand
// over bytes. Every failure becomes WASM_NOT_FOUND (nothing to read) or WASM_INVALID (something
// was read, but it is not this package's module: the classic is a server answering HTML).
import { WasmInvalidError, WasmNotFoundError } from './errors.js';

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

// The literal `new URL('...', import.meta.url)` form is what Vite, webpack 5 and Parcel recognise
// to copy the asset and rewrite the URL.
export function defaultWasmUrl() {
  return new URL('../dist/earnings-core.wasm', import.meta.url);
}

function toBytes(source) {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) {
    return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  }
  throw new WasmInvalidError('wasmBinary must be a Uint8Array, an ArrayBuffer or a WebAssembly.Module');
}

function describeStart(bytes) {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 40));
  return JSON.stringify(text.replace(/\s+/g, ' ').trim());
}

async function compile(bytes, origin) {
  const looksLikeWasm = bytes.length >= 8 && WASM_MAGIC.every((b, i) => bytes[i] === b);
  if (!looksLikeWasm) {
    throw new WasmInvalidError(
      `${origin} is not a WebAssembly module (starts with ${describeStart(bytes)}); ` +
        'is the server answering an HTML page for the .wasm URL?',
    );
  }
  try {
    return await WebAssembly.compile(bytes);
  } catch (cause) {
    throw new WasmInvalidError(`${origin} does not compile: ${cause.message}`, { cause });
  }
}

async function readFileUrl(url) {
  // Hidden from bundlers on purpose: this branch only runs under Node, for file: URLs.
  const fsModule = 'node:fs/promises';
  const { readFile } = await import(/* @vite-ignore */ fsModule);
  try {
    return new Uint8Array(await readFile(url));
  } catch (cause) {
    throw new WasmNotFoundError(
      `cannot read the core's wasm at ${url.href} (${cause.code ?? cause.message}); ` +
        'run `npm run build:wasm` or pass loadCore({ wasmUrl | wasmBinary })',
      { cause },
    );
  }
}

async function fetchUrl(url, fetchImpl) {
  let response;
  try {
    response = await fetchImpl(url.href);
  } catch (cause) {
    throw new WasmNotFoundError(`cannot fetch the core's wasm at ${url.href}: ${cause.message}`, {
      cause,
    });
  }
  if (!response.ok) {
    throw new WasmNotFoundError(
      `fetching the core's wasm at ${url.href} answered HTTP ${response.status}`,
    );
  }
  return new Uint8Array(await response.arrayBuffer());
}

// Resolves to a compiled WebAssembly.Module. `wasmBinary` wins over `wasmUrl`, which wins over the
// default file next to this package.
export async function compileCoreWasm({ wasmBinary, wasmUrl, fetch: fetchImpl } = {}) {
  if (wasmBinary !== undefined) {
    if (wasmBinary instanceof WebAssembly.Module) return wasmBinary;
    return compile(toBytes(wasmBinary), 'wasmBinary');
  }
  let url;
  try {
    url = wasmUrl === undefined ? defaultWasmUrl() : new URL(String(wasmUrl), globalThis.location?.href);
  } catch (cause) {
    throw new WasmNotFoundError(`wasmUrl ${JSON.stringify(String(wasmUrl))} is not a URL`, { cause });
  }
  const bytes =
    url.protocol === 'file:'
      ? await readFileUrl(url)
      : await fetchUrl(url, fetchImpl ?? globalThis.fetch);
  return compile(bytes, url.href);
}

// Runs the emscripten factory with a module we compiled ourselves, so the generated loader never
// fetches anything (its own fetch of a file path breaks under Node 18+) and an instantiation
// failure rejects instead of leaving the ready promise pending forever.
export async function instantiateCore(factory, wasmModule) {
  let rejectInstantiation;
  const instantiationFailed = new Promise((resolve, reject) => {
    rejectInstantiation = reject;
  });
  const ready = factory({
    instantiateWasm(imports, receiveInstance) {
      // receiveInstance itself throws when the exports are not what the loader expects.
      WebAssembly.instantiate(wasmModule, imports)
        .then((instance) => receiveInstance(instance, wasmModule))
        .catch((cause) =>
          rejectInstantiation(
            new WasmInvalidError(`the wasm does not match its loader: ${cause.message}`, { cause }),
          ),
        );
      return {};
    },
  });
  try {
    return await Promise.race([ready, instantiationFailed]);
  } catch (cause) {
    if (cause instanceof WasmInvalidError) throw cause;
    throw new WasmInvalidError(`the core failed to start: ${cause?.message ?? cause}`, { cause });
  }
}
