// The AWS SDK warns once per process that Node 20 support ends in 2027 (deployed Lambdas run Node 22).
// Keep that one notice out of test output, with the CLI's filter; every other warning still prints.
require('../bin/distill-guard').quietNodeVersionWarning();
