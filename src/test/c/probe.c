/* placeholder, replaced by the real probe */
int main(void) { return 0; }
