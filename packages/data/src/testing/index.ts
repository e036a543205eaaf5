/**
 * @cfa/data/testing — files for tests of the image readers (tests and test helpers only; the lint
 * rule keeps production code off it).
 */
export { rgbPng } from './raw-png';
