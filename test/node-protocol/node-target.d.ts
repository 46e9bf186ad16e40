// `#node-target` is mapped by each vitest project that runs the node-protocol suite to its
// platform's target (see target.ts).
declare module '#node-target' {
  export const target: import('./target.ts').NodeTarget;
}
