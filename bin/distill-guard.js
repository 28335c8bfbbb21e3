#!/usr/bin/env node
// Thin shim: the CLI is TypeScript, run through tsx so there is no separate build step.

// The AWS SDK warns on every command that Node 20 support ends in 2027. Deployed Lambdas run Node 22; this
// machine's CLI runs Node 20, so keep that one notice out of operators' output and pass every other warning on.
// The jest setup (test/quiet-node-version-warning.js) installs the same filter, so it is exported.
function quietNodeVersionWarning() {
  const emitWarning = process.emitWarning;
  process.emitWarning = function (warning, ...rest) {
    const type = typeof rest[0] === 'string' ? rest[0] : rest[0] && rest[0].type;
    const name = warning && typeof warning === 'object' ? warning.name : undefined;
    const text = typeof warning === 'string' ? warning : '';
    if (type === 'NodeVersionSupportWarning' || name === 'NodeVersionSupportWarning' || text.startsWith('NodeVersionSupportWarning')) return;
    return emitWarning.call(process, warning, ...rest);
  };
}
module.exports = { quietNodeVersionWarning };

if (require.main === module) {
  // The SDK's own switch, which child processes inherit.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  quietNodeVersionWarning();

  // Replay allocates short-lived objects for every input line while it holds a large long-lived heap (windows,
  // profiles): with V8's default 16 MB semi-spaces many survive a scavenge or two and end up in full GCs. 64 MB
  // semi-spaces took ~10% off replay's CPU time and lowered its peak RSS (7-day medium world). V8 reads the size
  // only at start-up, so replay re-runs node with it (one more node start, before anything is loaded).
  const semiSpace = (a) => a.startsWith('--max-semi-space-size');
  if (process.argv[2] === 'replay' && !process.execArgv.some(semiSpace) && !(process.env.NODE_OPTIONS ?? '').split(/\s+/).some(semiSpace)) {
    const args = ['--max-semi-space-size=64', ...process.execArgv, __filename, ...process.argv.slice(2)];
    const r = require('child_process').spawnSync(process.execPath, args, { stdio: 'inherit' });
    if (r.error) throw r.error;
    if (r.signal) process.kill(process.pid, r.signal);
    process.exit(r.status ?? 1);
  }

  // The installed package ships the constructs only (dist/); the CLI runs from a clone of the repository.
  if (!require('fs').existsSync(require('path').join(__dirname, '..', 'cli', 'main.ts'))) {
    process.stderr.write(
      'distill-guard: the CLI runs from a clone of the repository (npm ci && npx distill-guard); this installed package holds the CDK constructs only\n',
    );
    process.exit(1);
  }
  require('tsx/cjs');
  require('../cli/main.ts').main();
}
