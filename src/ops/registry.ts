/**
 * The op registry's storage, in a module with no runtime imports: ops are defined while the module
 * graph is still loading (tensor.ts and the ops import each other), so the map must exist first.
 */
import type { AnyOp } from './define.js';

export const registry = new Map<string, AnyOp>();
