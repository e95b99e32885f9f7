"""Draw the kinds of Japanese text the cashier UI shows and print a hash of the pixels.

Run twice by test_deb.py: with Qt's ICU data and with the package's empty ICU stub
(LD_LIBRARY_PATH wins over Qt's $ORIGIN run path). The same pixels both times show the
stub takes nothing from the screen.
"""

import hashlib
import json

from PySide6.QtCore import QLocale, QTimeZone
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

app = QApplication([])
window = QWidget()
layout = QVBoxLayout(window)
label = QLabel(
    "合計 ¥1,280（税込）8%対象。お支払いありがとうございました。長い日本語の文は"
    "単語の区切りがなくても折り返されます。"
)
label.setWordWrap(True)
layout.addWidget(label)
layout.addWidget(QLineEdit("カード決済 ｶﾞｷﾞ ＡＢＣ 123"))
table = QTableWidget(3, 1)
for row, text in enumerate(("りんご", "バナナ", "あめ")):
    table.setItem(row, 0, QTableWidgetItem(text))
table.sortItems(0)
layout.addWidget(table)
window.resize(360, 320)
window.show()
app.processEvents()
image = window.grab().toImage()
print(
    json.dumps(
        {
            "pixels": hashlib.sha256(bytes(image.constBits())).hexdigest(),
            "sorted": [cell.text() for row in range(3) if (cell := table.item(row, 0))],
            # Time-zone names come only from ICU's data: empty when the stub was loaded.
            "icu_data": bool(
                QTimeZone(b"Asia/Tokyo").displayName(
                    QTimeZone.TimeType.StandardTime,
                    QTimeZone.NameType.LongName,
                    QLocale(QLocale.Language.Japanese),
                )
            ),
        }
    )
)
