// Each benchmark group registers itself here with one line.
import { registerBenchmark } from './registry.js';

void registerBenchmark;
