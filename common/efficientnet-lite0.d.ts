export const MODEL_PACKAGE: string;
export const MODEL_VERSION: string;
export const MODEL_MEMBER: string;
export const WEIGHTS_FOLDER: string;
export const WEIGHTS_FILE: string;
/** The path of EfficientNet-Lite0's weights file in the torch-node cache (nothing is fetched here). */
export function efficientnetLite0CachedPath(): string;
