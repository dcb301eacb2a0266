/** $TORCH_NODE_CACHE, else $XDG_CACHE_HOME/torch-node, else ~/.cache/torch-node. */
export function cacheDir(): string;
