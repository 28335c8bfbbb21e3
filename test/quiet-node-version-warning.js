// The AWS SDK warns once per process that Node 20 support ends in 2027 (deployed Lambdas run Node 22).
// Keep that one notice out of test output; every other warning still prints.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0] && rest[0].type;
  const name = warning && typeof warning === 'object' ? warning.name : undefined;
  const text = typeof warning === 'string' ? warning : '';
  if (type === 'NodeVersionSupportWarning' || name === 'NodeVersionSupportWarning' || text.startsWith('NodeVersionSupportWarning')) return;
  return emitWarning.call(process, warning, ...rest);
};
