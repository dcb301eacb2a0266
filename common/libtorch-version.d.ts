/** Reads TORCH_VERSION_{MAJOR,MINOR,PATCH} from the headers of a libtorch folder: '2.15.0', or null. */
export function headerVersion(root: string): string | null;
