// Writes the list of modules the bundle holds (dist/modules.json) so that check-bundle.mjs can
// prove the client bundle pulls in nothing of the server.
const listModules = {
  name: 'list-modules',
  generateBundle(_options, bundle) {
    const modules = Object.values(bundle).flatMap((item) => (item.type === 'chunk' ? item.moduleIds : []));
    this.emitFile({ type: 'asset', fileName: 'modules.json', source: JSON.stringify(modules, null, 1) });
  },
};

export default { build: { target: 'es2022', outDir: 'dist', emptyOutDir: true }, logLevel: 'warn', plugins: [listModules] };
