"""Camera frames and keyboard-wedge input to payment tokens and product barcodes.

No Qt here. The UI bridges :class:`pos_app.scanning.worker.ScanWorker` callbacks
into Qt signals. This ``__init__`` stays empty on purpose: importing the package
must not import OpenCV (``pos-app --version`` stays fast). Public modules:

- ``config``: ``CameraConfig``, ``DecoderConfig``, ``FilterConfig``, ``WedgeConfig``
- ``symbols``: ``Symbol``, ``SymbolKind``, ``classify``
- ``sources``/``camera``/``synthetic``: frame sources behind ``FrameSource``
- ``decoders``/``cascade``: decoders behind ``Decoder``; ``DecodeCascade``
- ``filter``: ``ScanFilter`` and its ``ScanEvent``
- ``wedge``: ``WedgeParser`` for keyboard-wedge scanners
- ``worker``: ``ScanWorker``
- ``errors``: the scanning error tree
"""
