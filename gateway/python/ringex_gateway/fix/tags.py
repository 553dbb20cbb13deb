"""FIX 4.4 tag numbers, message types and the session's reason codes, by name."""

from enum import IntEnum, StrEnum


class Tag(IntEnum):
    """The FIX 4.4 tags the gateway reads or writes."""

    AVG_PX = 6
    BEGIN_SEQ_NO = 7
    CL_ORD_ID = 11
    CUM_QTY = 14
    END_SEQ_NO = 16
    EXEC_ID = 17
    EXEC_INST = 18
    SECURITY_ID_SOURCE = 22
    LAST_PX = 31
    LAST_QTY = 32
    MSG_SEQ_NUM = 34
    MSG_TYPE = 35
    NEW_SEQ_NO = 36
    ORDER_ID = 37
    ORDER_QTY = 38
    ORD_STATUS = 39
    ORD_TYPE = 40
    ORIG_CL_ORD_ID = 41
    POSS_DUP_FLAG = 43
    PRICE = 44
    REF_SEQ_NUM = 45
    SECURITY_ID = 48
    SENDER_COMP_ID = 49
    SENDING_TIME = 52
    SIDE = 54
    SYMBOL = 55
    TARGET_COMP_ID = 56
    TEXT = 58
    TIME_IN_FORCE = 59
    TRANSACT_TIME = 60
    ENCRYPT_METHOD = 98
    CXL_REJ_REASON = 102
    ORD_REJ_REASON = 103
    HEART_BT_INT = 108
    TEST_REQ_ID = 112
    ORIG_SENDING_TIME = 122
    GAP_FILL_FLAG = 123
    RESET_SEQ_NUM_FLAG = 141
    EXEC_TYPE = 150
    LEAVES_QTY = 151
    NO_RELATED_SYM = 146
    MD_REQ_ID = 262
    SUBSCRIPTION_REQUEST_TYPE = 263
    MARKET_DEPTH = 264
    MD_UPDATE_TYPE = 265
    NO_MD_ENTRY_TYPES = 267
    NO_MD_ENTRIES = 268
    MD_ENTRY_TYPE = 269
    MD_ENTRY_PX = 270
    MD_ENTRY_SIZE = 271
    MD_UPDATE_ACTION = 279
    MD_REQ_REJ_REASON = 281
    SECURITY_REQ_ID = 320
    SECURITY_RESPONSE_ID = 322
    NUMBER_OF_ORDERS = 346
    REF_TAG_ID = 371
    REF_MSG_TYPE = 372
    SESSION_REJECT_REASON = 373
    BUSINESS_REJECT_REF_ID = 379
    BUSINESS_REJECT_REASON = 380
    CXL_REJ_RESPONSE_TO = 434
    MASS_CANCEL_REQUEST_TYPE = 530
    MASS_CANCEL_RESPONSE = 531
    MASS_CANCEL_REJECT_REASON = 532
    TOTAL_AFFECTED_ORDERS = 533
    USERNAME = 553
    PASSWORD = 554
    SECURITY_LIST_REQUEST_TYPE = 559
    SECURITY_REQUEST_RESULT = 560
    ROUND_LOT = 561
    MIN_TRADE_VOL = 562


class MsgType(StrEnum):
    """MsgType (35) values the gateway handles."""

    HEARTBEAT = "0"
    TEST_REQUEST = "1"
    RESEND_REQUEST = "2"
    REJECT = "3"
    SEQUENCE_RESET = "4"
    LOGOUT = "5"
    EXECUTION_REPORT = "8"
    ORDER_CANCEL_REJECT = "9"
    LOGON = "A"
    NEW_ORDER_SINGLE = "D"
    ORDER_CANCEL_REQUEST = "F"
    ORDER_CANCEL_REPLACE_REQUEST = "G"
    ORDER_STATUS_REQUEST = "H"
    BUSINESS_MESSAGE_REJECT = "j"
    ORDER_MASS_CANCEL_REQUEST = "q"
    ORDER_MASS_CANCEL_REPORT = "r"
    MARKET_DATA_REQUEST = "V"
    MARKET_DATA_SNAPSHOT = "W"
    MARKET_DATA_INCREMENTAL_REFRESH = "X"
    MARKET_DATA_REQUEST_REJECT = "Y"
    SECURITY_LIST_REQUEST = "x"
    SECURITY_LIST = "y"


#: Session-level (administrative) message types: never resent, covered by a gap fill.
ADMIN_TYPES = frozenset(["0", "1", "2", "3", "4", "5", "A"])


class SessionRejectReason(IntEnum):
    """SessionRejectReason (373) values the gateway sends."""

    INVALID_TAG_NUMBER = 0
    REQUIRED_TAG_MISSING = 1
    TAG_NOT_DEFINED_FOR_MESSAGE_TYPE = 2
    UNDEFINED_TAG = 3
    TAG_WITHOUT_VALUE = 4
    VALUE_INCORRECT = 5
    INCORRECT_DATA_FORMAT = 6
    COMP_ID_PROBLEM = 9
    INVALID_MSG_TYPE = 11
    TAG_APPEARS_MORE_THAN_ONCE = 13
    REPEATING_GROUP_FIELDS_OUT_OF_ORDER = 15
    INCORRECT_NUM_IN_GROUP_COUNT = 16
    OTHER = 99


class BusinessRejectReason(IntEnum):
    """BusinessRejectReason (380) values the gateway sends."""

    OTHER = 0
    UNSUPPORTED_MESSAGE_TYPE = 3
    CONDITIONALLY_REQUIRED_FIELD_MISSING = 5


def is_fix44_msg_type(value: str) -> bool:
    """Whether ``value`` is a MsgType FIX 4.4 defines (one letter or digit, or AA-AI)."""
    if len(value) == 1:
        return value.isascii() and value.isalnum()
    return len(value) == 2 and value[0] == "A" and "A" <= value[1] <= "I"
