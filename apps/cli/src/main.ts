import { runCli } from './cli';
import { endQuietlyOnClosedPipes } from './closed-pipe';

endQuietlyOnClosedPipes();
void runCli(process.argv);
