/**
 * Runs another workload (`fma.js w1-matmul ...`) with WebAssembly relaxed SIMD enabled, as browsers
 * have it: Node 20 validates it only behind a V8 flag, which must be set before nabla compiles
 * its kernels, so the workload is imported after it.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--experimental-wasm-relaxed-simd');
const [workload, ...rest] = process.argv.slice(2);
process.argv.splice(2, process.argv.length, ...rest);
await import(`./${workload}.js`);
