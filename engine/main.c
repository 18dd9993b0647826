/* The hpsweep command line (being written). */
#include <stdio.h>
int main(void) { puts("hpsweep"); return 0; }
