/**
 * torch.export: loading `torch.export.save` archives (.pt2) as trainable modules.
 * @module
 */
export { load, ExportedProgram, ExportedModule } from './program';
