/**
 * Runs another workload (`fma.js w1-matmul ...`) with WebAssembly relaxed SIMD enabled, as browsers
 * and the nabla command have it: Node 20 validates it only behind a V8 flag, which must be set
 * before nabla compiles its kernels, so the workload is imported after it.
 */
import { enableRelaxedSimd } from '../../src/cli/relaxed-simd.js';

enableRelaxedSimd();
const [workload, ...rest] = process.argv.slice(2);
process.argv.splice(2, process.argv.length, ...rest);
await import(`./${workload}.js`);
