/** Memory formats and layouts as Python's torch.channels_last etc. (strings in torch-node). */
import type { Layout, MemoryFormat } from './resolve';

/** Python's `torch.contiguous_format`: row-major (the default). */
export const contiguousFormat: MemoryFormat = 'contiguous_format';
/** Python's `torch.preserve_format`: keep the input's memory format. */
export const preserveFormat: MemoryFormat = 'preserve_format';
/** Python's `torch.channels_last`: NHWC order for 4-d tensors. */
export const channelsLast: MemoryFormat = 'channels_last';
/** Python's `torch.channels_last_3d`: NDHWC order for 5-d tensors. */
export const channelsLast3d: MemoryFormat = 'channels_last_3d';
/** Python's `torch.strided`: the dense layout, the only one torch-node's tensors have. */
export const strided: Layout = 'strided';
