/** Entry of replay's reader thread (bundled by compiled.ts; reader.ts does the work). */
import { parentPort, workerData } from 'node:worker_threads';
import { runReader, type ReaderData } from './reader';

void runReader(workerData as ReaderData, parentPort!);
