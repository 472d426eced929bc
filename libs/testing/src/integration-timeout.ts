// Integration tests wait on the real broker (group joins, retries); unit tests keep jest's 5 s.
jest.setTimeout(120000);
