/** What `npm start` needs before the emulators start: java for DynamoDB Local, and a synthesized cloud assembly. */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** Runs `cdk synth --quiet` in `cwd` (the local cdk binary when installed); resolves with the time it took, in ms. */
export function runCdkSynth(cwd = process.cwd()): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const bin = path.join(cwd, 'node_modules', '.bin', 'cdk');
    const child = spawn(fs.existsSync(bin) ? bin : 'npx', fs.existsSync(bin) ? ['synth', '--quiet'] : ['cdk', 'synth', '--quiet'], {
      cwd,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: process.env,
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(Date.now() - started) : reject(new Error(`cdk synth failed with exit code ${code}`))));
  });
}

/** DynamoDB Local (the features and control tables) is a JVM: say what to install before anything starts. */
export function requireJava(
  run: () => { error?: Error; status: number | null; stdout?: string; stderr?: string } = () =>
    spawnSync('java', ['-version'], { encoding: 'utf8', timeout: 20_000 }),
): void {
  const install = 'install it, e.g. apt-get install -y openjdk-17-jre-headless (Debian/Ubuntu) or brew install openjdk@17 (macOS)';
  const r = run();
  if (r.error || r.status !== 0) throw new Error(`java 17 or later is required for DynamoDB Local and was not found on PATH: ${install}`);
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${r.stderr ?? ''}${r.stdout ?? ''}`);
  const major = m ? (m[1] === '1' ? Number(m[2]) : Number(m[1])) : NaN;
  if (major < 17) throw new Error(`java 17 or later is required for DynamoDB Local, found java ${major}: ${install}`);
}
