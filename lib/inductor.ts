/**
 * torch.inductor: AOTInductor packages (Python's torch._inductor.aoti_load_package).
 * @module
 */
export { aotiLoadPackage, AOTICompiledModel } from './export/aoti';
export type { AotiLoadOptions, AotiInputSpec } from './export/aoti';
