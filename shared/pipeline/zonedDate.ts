// The tenant-zone calendar lives in shared/runtime/zonedDate.ts (staging checks change dates with it too);
// re-exported here for the pipeline steps that import it from this folder.
export { dateInZone } from '../runtime/zonedDate.ts';
