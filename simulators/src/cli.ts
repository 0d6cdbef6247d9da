process.stderr.write('not implemented yet\n');
