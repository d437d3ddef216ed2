"""The language stage: syntax, AST, checks, the compiler and the IR it produces, errors."""
