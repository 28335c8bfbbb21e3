'use strict';
/**
 * One local Lambda "sandbox": a worker thread whose process.env is the function's resolved environment (set by
 * the parent through the Worker `env` option, so module-level SDK clients see the right endpoints and names).
 * It loads the bundle once (cold start) and then serves invocations one at a time, like a Lambda execution
 * environment. Plain JavaScript so it runs without a TypeScript loader.
 */
const { parentPort, workerData } = require('worker_threads');
// Resolve @aws-sdk/* (external in the bundles, provided by the Lambda runtime) from NODE_PATH.
if (process.env.NODE_PATH) require('module')._initPaths();
const path = require('path');
const fs = require('fs');
const { pathToFileURL } = require('url');

const { codeDir, handler, functionName, functionArn, memoryMb, logGroupName } = workerData;

let handlerFn;
async function load() {
  if (handlerFn) return handlerFn;
  const dot = handler.lastIndexOf('.');
  const modulePath = handler.slice(0, dot);
  const exportName = handler.slice(dot + 1);
  const base = path.join(codeDir, modulePath);
  const candidates = [`${base}.js`, `${base}.cjs`, `${base}.mjs`, base];
  const file = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
  if (!file) throw Object.assign(new Error(`cannot find module ${modulePath} in ${codeDir}`), { name: 'Runtime.ImportModuleError' });
  let mod;
  if (file.endsWith('.mjs')) mod = await import(pathToFileURL(file).href);
  else {
    try {
      mod = require(file);
    } catch (err) {
      if (err && err.code === 'ERR_REQUIRE_ESM') mod = await import(pathToFileURL(file).href);
      else throw err;
    }
  }
  let fn = mod[exportName];
  if (typeof fn !== 'function' && mod.default && typeof mod.default[exportName] === 'function') fn = mod.default[exportName];
  if (typeof fn !== 'function')
    throw Object.assign(new Error(`${modulePath}.${exportName} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
  handlerFn = fn;
  return fn;
}

function serializeError(err) {
  if (err instanceof Error)
    return {
      errorType: err.name || 'Error',
      errorMessage: err.message,
      stackTrace: (err.stack || '')
        .split('\n')
        .slice(1, 8)
        .map((s) => s.trim()),
    };
  return { errorType: 'Error', errorMessage: typeof err === 'string' ? err : JSON.stringify(err) };
}

parentPort.on('message', async (msg) => {
  if (msg.type === 'memory') {
    const m = process.memoryUsage();
    parentPort.postMessage({ type: 'memory', id: msg.id, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external });
    return;
  }
  if (msg.type !== 'invoke') return;
  const deadline = msg.deadline;
  const context = {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: msg.requestId,
    logGroupName,
    logStreamName: `local/[$LATEST]${workerData.sandboxId}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    succeed: () => undefined,
    fail: () => undefined,
  };
  process.env._X_AMZN_TRACE_ID = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${msg.requestId.replace(/-/g, '').slice(0, 24)};Parent=0000000000000000;Sampled=0`;
  let settled = false;
  const reply = (ok, value) => {
    if (settled) return;
    settled = true;
    let payload;
    try {
      payload = ok ? (value === undefined ? null : JSON.parse(JSON.stringify(value))) : serializeError(value);
    } catch (e) {
      ok = false;
      payload = serializeError(e);
    }
    parentPort.postMessage({ type: 'result', requestId: msg.requestId, ok, payload });
  };
  try {
    const fn = await load();
    const cb = (err, res) => (err ? reply(false, err) : reply(true, res));
    context.done = cb;
    context.succeed = (res) => reply(true, res);
    context.fail = (err) => reply(false, err);
    const out = fn(msg.event, context, cb);
    if (out && typeof out.then === 'function') {
      const res = await out;
      reply(true, res);
    } else if (fn.length < 3 && out !== undefined) reply(true, out);
    else if (fn.length < 3) reply(true, undefined);
  } catch (err) {
    reply(false, err);
  }
});

parentPort.postMessage({ type: 'ready' });
