#!/bin/sh
# /usr/bin/pos-app: the installed cashier application lives in /opt/pos-app.
# OpenCV's FFmpeg is not in the package (packaging/ffmpeg_stubs.py): its own MJPEG reader
# reads what USB webcams record.
export OPENCV_VIDEOIO_PRIORITY_FFMPEG=0
exec /opt/pos-app/pos-app "$@"
