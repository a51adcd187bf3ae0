/**
 * @file The public ops, one file per kind; each validates its arguments once, at the door, with an error
 * that names the op, the shapes or values and what was expected, then runs the inner ops
 * (primitives/index.ts). Their derivatives live in primitives/.
 */
export * from "./composites.js";
export * from "./conv.js";
export * from "./convert.js";
export * from "./creation.js";
export * from "./elementwise.js";
export * from "./linalg.js";
export * from "./reductions.js";
export * from "./shape.js";
