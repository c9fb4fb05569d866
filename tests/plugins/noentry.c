/* noentry.c: a shared object that is not an mcpauth plugin. */
int noentry_answer(void);
__attribute__((visibility("default"))) int noentry_answer(void) { return 42; }
