/* main.c - the myocds command line (being written). */
int main(void)
{
    return 0;
}
