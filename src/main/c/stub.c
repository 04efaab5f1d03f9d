/* placeholder, replaced by the real stub */
int main(void) { return 0; }
