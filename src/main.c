/* Process entry point: placeholder until the daemon is wired. */
int main(void)
{
    return 0;
}
