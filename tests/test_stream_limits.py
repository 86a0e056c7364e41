"""The streams process raises its limit of open files to what ``streams.max_subscribers`` needs."""

import resource

from bigchaindb.streams.server import SPARE_FILES, open_files_for


def test_the_streams_process_may_open_a_file_per_subscriber():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))  # as low as some systems' default
        open_files_for(1000)
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (1000 + SPARE_FILES, hard)
        open_files_for(10)  # never lowered
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (1000 + SPARE_FILES, hard)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
