/* Qt's ICU data library (libicudata, about 31 MB) replaced by ICU's own "stubdata": a
 * valid ICU common-data package with no entries, exported under the name libicuuc looks
 * up (icudtNN_dat; build_deb.sh passes it as ICU_DATA_SYMBOL).
 *
 * The cashier UI uses none of what the data serves in Qt: QCollator (locale-aware sort
 * keys), QTimeZone's display names, QLocale's ICU case mapping (Qt falls back to its own)
 * and legacy text codecs. Text layout, Japanese line breaking and rendering use Qt's own
 * Unicode tables and HarfBuzz, and draw the same pixels either way. tests/packaging checks
 * that pos_app uses none of those classes; restore the real library before it does. */
#include <stdint.h>

#ifndef ICU_DATA_SYMBOL
#error "build with -DICU_DATA_SYMBOL=icudtNN_dat"
#endif

typedef struct {
    uint16_t headerSize;
    uint8_t magic1, magic2;
    struct {
        uint16_t size, reservedWord;
        uint8_t isBigEndian, charsetFamily, sizeofUChar, reservedByte;
        uint8_t dataFormat[4], formatVersion[4], dataVersion[4];
    } info;
    char padding[8];
    uint32_t count, reserved;
    struct {
        uint32_t nameOffset, dataOffset;
    } toc[1];
} IcuCommonData;

__attribute__((visibility("default"))) const IcuCommonData ICU_DATA_SYMBOL = {
    32, 0xda, 0x27,                                       /* header size, magic */
    {20, 0, 0, 0, 2, 0, {'T', 'o', 'C', 'P'}, {1, 0, 0, 0}, {0, 0, 0, 0}},
    {0}, 0, 0, {{0, 0}},                                  /* no entries */
};
