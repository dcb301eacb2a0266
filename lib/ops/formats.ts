/** Memory formats and layouts as Python's torch.channels_last etc. (strings in torch-node). */
import type { Layout, MemoryFormat } from './resolve';

export const contiguousFormat: MemoryFormat = 'contiguous_format';
export const preserveFormat: MemoryFormat = 'preserve_format';
export const channelsLast: MemoryFormat = 'channels_last';
export const channelsLast3d: MemoryFormat = 'channels_last_3d';
export const strided: Layout = 'strided';
